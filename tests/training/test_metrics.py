"""Epoch metrics: decision rules from the loss, masks, and accumulation from counts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from minitorch_rnn.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from minitorch_rnn.training.metrics import (
    Accuracy,
    BatchOutcome,
    BitsPerChar,
    LossAverage,
    Metric,
    Perplexity,
    SequenceAccuracy,
    resolve_metrics,
)
from minitorch_rnn.training.trainer import DEFAULT_METRICS


def _accumulate(metric: Metric, *batches: BatchOutcome) -> float:
    metric.reset()
    for batch in batches:
        metric.update(batch)
    return metric.result()


def test_accuracy_with_cross_entropy_takes_the_argmax_of_the_class_axis() -> None:
    pred = np.array([[2.0, 1.0, 0.0], [0.0, 0.1, 3.0], [1.0, 5.0, 0.0]], dtype=np.float32)
    target = np.array([0, 2, 0])
    assert _accumulate(Accuracy(), BatchOutcome(CrossEntropyLoss(), pred, target, None)) == 2 / 3


def test_accuracy_with_bce_thresholds_probabilities_at_half_and_logits_at_zero() -> None:
    pred = np.array([[0.6], [0.4], [0.2]], dtype=np.float32)
    target = np.array([[1.0], [1.0], [0.0]], dtype=np.float32)
    assert _accumulate(Accuracy(), BatchOutcome(BCELoss(), pred, target, None)) == 2 / 3
    # As logits, 0.4 and 0.2 are both > 0: predicted 1.
    assert _accumulate(Accuracy(), BatchOutcome(BCEWithLogitsLoss(), pred, target, None)) == 2 / 3
    logits = np.array([[0.6], [-0.4], [-0.2]], dtype=np.float32)
    assert _accumulate(Accuracy(), BatchOutcome(BCEWithLogitsLoss(), logits, target, None)) == 2 / 3


def test_accuracy_counts_neither_masked_steps_nor_ignored_targets() -> None:
    # Batch of 2 sequences of 3 steps, 2 classes; every masked or ignored step is wrong.
    pred = np.zeros((2, 3, 2), dtype=np.float32)
    pred[..., 1] = 1.0  # always predicts class 1
    target = np.array([[1, 1, 0], [1, -100, 0]])
    mask = np.array([[True, True, False], [True, True, True]])
    loss = CrossEntropyLoss(ignore_index=-100)
    # counted: (0,0) right, (0,1) right, (1,0) right, (1,2) wrong -> 3/4
    assert _accumulate(Accuracy(), BatchOutcome(loss, pred, target, mask)) == 3 / 4


def test_accuracy_is_accumulated_from_counts_not_averaged_over_batches() -> None:
    loss = BCELoss()
    big = BatchOutcome(loss, np.full((3, 1), 0.9, np.float32), np.ones((3, 1), np.float32), None)
    small = BatchOutcome(loss, np.full((1, 1), 0.9, np.float32), np.zeros((1, 1), np.float32), None)
    # 3 right of 4, not the mean of batch accuracies (1.0 + 0.0) / 2.
    assert _accumulate(Accuracy(), big, small) == 3 / 4


def test_sequence_accuracy_needs_every_counted_step_right() -> None:
    pred = np.array([[[0.9], [0.1], [0.9]], [[0.9], [0.9], [0.9]]], dtype=np.float32)
    target = np.array([[[1], [0], [1]], [[1], [0], [1]]], dtype=np.float32)
    loss = BCELoss()
    assert _accumulate(SequenceAccuracy(), BatchOutcome(loss, pred, target, None)) == 0.5
    # Masking the wrong step of the second sample makes it right.
    mask = np.array([[True, True, True], [True, False, True]])
    assert _accumulate(SequenceAccuracy(), BatchOutcome(loss, pred, target, mask)) == 1.0


def test_sequence_accuracy_leaves_out_samples_without_counted_steps() -> None:
    pred = np.zeros((2, 2, 3), dtype=np.float32)
    target = np.array([[0, 0], [-1, -1]])
    outcome = BatchOutcome(CrossEntropyLoss(ignore_index=-1), pred, target, None)
    assert _accumulate(SequenceAccuracy(), outcome) == 1.0


def test_perplexity_and_bits_per_char_come_from_predictions_whatever_the_reduction() -> None:
    rng = np.random.default_rng(0)
    pred = rng.normal(size=(2, 5, 4))
    target = rng.integers(0, 4, size=(2, 5))
    mask = np.arange(5)[None, :] < np.array([[5], [2]])
    logp = pred - np.log(np.exp(pred).sum(axis=-1, keepdims=True))
    token_losses = -np.take_along_axis(logp, target[..., None], axis=-1)[..., 0]
    mean = token_losses[mask].mean()
    for reduction in ("mean", "sum", "batch_mean"):
        outcome = BatchOutcome(CrossEntropyLoss(reduction=reduction), pred, target, mask)
        assert _accumulate(Perplexity(), outcome) == pytest.approx(math.exp(mean))
        assert _accumulate(BitsPerChar(), outcome) == pytest.approx(mean / math.log(2))


def test_perplexity_of_probabilities_uses_their_log() -> None:
    probabilities = np.array([[0.5, 0.5], [0.25, 0.75]])
    outcome = BatchOutcome(
        CrossEntropyLoss(from_logits=False), probabilities, np.array([0, 1]), None
    )
    expected = math.exp(-(math.log(0.5) + math.log(0.75)) / 2)
    assert _accumulate(Perplexity(), outcome) == pytest.approx(expected)


def test_user_metric_is_averaged_weighted_by_batch_size_and_gets_the_mask() -> None:
    seen = []

    def mean_pred(pred: np.ndarray, target: np.ndarray, mask: object) -> float:
        seen.append(mask)
        return float(pred.mean())

    (metric,) = resolve_metrics([mean_pred], MSELoss())
    assert metric.name == "mean_pred"
    loss = MSELoss()
    mask = np.ones((3, 1), dtype=bool)
    a = BatchOutcome(loss, np.full((3, 1), 1.0), np.zeros((3, 1)), mask)
    b = BatchOutcome(loss, np.full((1, 1), 5.0), np.zeros((1, 1)), None)
    assert _accumulate(metric, a, b) == pytest.approx((3 * 1.0 + 1 * 5.0) / 4)
    assert seen[0] is mask and seen[1] is None


def test_user_metric_returning_a_non_number_is_a_type_error() -> None:
    (metric,) = resolve_metrics([lambda p, t, m: "high"], MSELoss())
    with pytest.raises(TypeError, match="real number"):
        metric.update(BatchOutcome(MSELoss(), np.zeros((1, 1)), np.zeros((1, 1)), None))


def test_metric_results_are_nan_before_any_batch() -> None:
    assert math.isnan(Accuracy().result())


def test_loss_average_weighs_mean_reduction_by_counted_elements() -> None:
    loss = MSELoss()
    average = LossAverage(loss)
    full = BatchOutcome(loss, np.zeros((1, 4, 1)), np.zeros((1, 4, 1)), None)
    short = BatchOutcome(loss, np.zeros((1, 4, 1)), np.zeros((1, 4, 1)), np.array([[1, 0, 0, 0]]))
    average.update_value(1.0, full)  # 4 counted elements
    average.update_value(3.0, short)  # 1 counted element
    assert average.result() == pytest.approx((4 * 1.0 + 1 * 3.0) / 5)


def test_loss_average_weighs_other_reductions_by_batch_size() -> None:
    loss = MSELoss(reduction="batch_mean")
    average = LossAverage(loss)
    average.update_value(1.0, BatchOutcome(loss, np.zeros((3, 2)), np.zeros((3, 2)), None))
    average.update_value(5.0, BatchOutcome(loss, np.zeros((1, 2)), np.zeros((1, 2)), None))
    assert average.result() == pytest.approx((3 * 1.0 + 5.0) / 4)


@pytest.mark.parametrize(
    ("specs", "loss", "error", "message"),
    [
        (["accuracy"], MSELoss(), ValueError, "classification loss"),
        (["perplexity"], BCELoss(), ValueError, "needs a CrossEntropyLoss"),
        (["f1"], BCELoss(), ValueError, "unknown metric 'f1'"),
        (["accuracy", "accuracy"], BCELoss(), ValueError, "distinct"),
        ([lambda p, t, m: 0.0, lambda p, t, m: 1.0], BCELoss(), ValueError, "distinct"),
        ([3], BCELoss(), TypeError, "name, a callable or a Metric"),
        ("accuracy", BCELoss(), TypeError, "must be a sequence"),
    ],
)
def test_resolve_metrics_rejects_what_does_not_fit(
    specs: object, loss: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        resolve_metrics(specs, loss)  # type: ignore[arg-type]


def test_resolve_metrics_builds_fresh_builtins_named_as_asked() -> None:
    metrics = resolve_metrics(
        ["accuracy", "sequence_accuracy", "perplexity", "bits_per_char"], CrossEntropyLoss()
    )
    assert [m.name for m in metrics] == [
        "accuracy",
        "sequence_accuracy",
        "perplexity",
        "bits_per_char",
    ]


class _BrierLoss(Loss):
    """A loss class the metrics know nothing about: squared distance to the one-hot target;
    negative targets do not count. It declares its prediction rule, nothing else."""

    prediction_rule = "argmax"

    def _elementwise(
        self, pred: np.ndarray, target: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        target = np.asarray(target)
        counted = target >= 0
        diff = pred - np.eye(pred.shape[-1], dtype=pred.dtype)[np.where(counted, target, 0)]
        return (diff**2).sum(axis=-1), 2 * diff, counted


def test_a_new_loss_class_gets_accuracy_metrics_by_declaring_its_prediction_rule() -> None:
    from minitorch_rnn.layers import Dense
    from minitorch_rnn.optim import SGD
    from minitorch_rnn.training import Trainer

    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 3, 2)).astype(np.float32)
    target = rng.integers(-1, 4, size=(6, 3))
    model = Dense(2, 4, seed=0)
    trainer = Trainer(model, _BrierLoss(), SGD(model.parameters(), lr=0.1), metrics=DEFAULT_METRICS)
    results = trainer.evaluate(x, target, batch_size=4)
    predicted = model.forward(x).argmax(axis=-1)
    counted = target >= 0
    assert results["accuracy"] == np.sum((predicted == target) & counted) / np.sum(counted)


def test_the_loss_says_which_elements_count_mask_and_ignore_index_included() -> None:
    pred = np.zeros((2, 3, 4))
    target = np.array([[1, -1, 2], [3, 0, -1]])
    mask = np.array([[True, True, False], [True, True, True]])
    np.testing.assert_array_equal(
        CrossEntropyLoss(ignore_index=-1).counted(pred, target, mask),
        [[True, False, False], [True, True, False]],
    )
    np.testing.assert_array_equal(
        BCELoss().counted(np.full((2, 3, 1), 0.5), np.zeros((2, 3, 1)), mask), mask[..., None]
    )


class _DuckMSE:
    """A loss that is not a ``Loss``: ``forward``/``backward`` and a ``"mean"`` reduction."""

    reduction = "mean"

    def forward(self, pred: np.ndarray, target: np.ndarray, mask: object = None) -> float:
        weights = (
            np.ones(pred.shape)
            if mask is None
            else np.broadcast_to(np.asarray(mask)[..., None], pred.shape)
        )
        self.grad = 2 * (pred - target) * weights / weights.sum()
        return float(np.sum(weights * (pred - target) ** 2) / weights.sum())

    def backward(self) -> np.ndarray:
        return self.grad


def test_a_loss_that_is_not_a_loss_class_averages_over_the_unmasked_elements() -> None:
    from minitorch_rnn.layers import Dense
    from minitorch_rnn.module import Sequential
    from minitorch_rnn.optim import SGD
    from minitorch_rnn.recurrent import RNNCell, Unroll
    from minitorch_rnn.training import Trainer, pad_sequences

    rng = np.random.default_rng(4)
    x, lengths = pad_sequences([rng.normal(size=(n, 2)).astype(np.float32) for n in (3, 1, 2)])
    y = rng.normal(size=(3, 3, 1)).astype(np.float32)
    model = Sequential(Unroll(RNNCell(2, 3, seed=0)), Dense(3, 1, seed=1))
    trainer = Trainer(model, _DuckMSE(), SGD(model.parameters(), lr=0.0), metrics=())
    # Two batches of unequal valid steps: (3 + 1) and 2; the epoch loss weighs them by those counts.
    history = trainer.fit(
        x, y, epochs=1, batch_size=2, lengths=lengths, shuffle=False, progress=False
    )
    model.eval()
    pred = model.forward(x, lengths=lengths)
    valid = np.arange(3)[None, :] < lengths[:, None]
    assert history["loss"][0] == pytest.approx(float(np.mean((pred - y)[valid] ** 2)), rel=1e-5)
