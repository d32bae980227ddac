"""Seq2Seq with the Trainer (tuple inputs), padding-aware loss, and save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minitorch_rnn as mt


def reversal_task(n: int, seed: int) -> tuple[tuple, np.ndarray, mt.datasets.Vocabulary]:
    """Strings of 1-5 letters to their reverse: the output length follows the input's."""
    rng = np.random.default_rng(seed)
    vocab = mt.datasets.Vocabulary("abcd")
    words = ["".join(rng.choice(list("abcd"), rng.integers(1, 6))) for _ in range(n)]
    src, lengths = vocab.encode(words)
    tgt_in, _ = vocab.encode([w[::-1] for w in words], 6, start=True)
    tgt_out, _ = vocab.encode([w[::-1] for w in words], 6, end=True)
    return (src, tgt_in, lengths), tgt_out, vocab


def test_trainer_fits_a_seq2seq_model_on_tuple_inputs() -> None:
    x, y, vocab = reversal_task(1200, seed=0)
    model = mt.Seq2Seq(len(vocab), len(vocab), 8, 32, cell="gru", attention="dot", seed=0)
    trainer = mt.Trainer(
        model,
        mt.CrossEntropyLoss(ignore_index=vocab.pad_id),
        mt.optim.Adam(model.parameters(), lr=0.02),
        metrics=("sequence_accuracy",),
        seed=0,
    )
    x_val, y_val, _ = reversal_task(200, seed=1)
    history = trainer.fit(
        x, y, epochs=8, batch_size=32, validation_data=(x_val, y_val), progress=False
    )
    assert history["val_sequence_accuracy"][-1] > 0.9
    ids = model.generate(x_val[0], 6, vocab.start_id, vocab.end_id, src_lengths=x_val[2])
    words = vocab.decode(x_val[0])
    exact = np.mean([p == w[::-1] for p, w in zip(vocab.decode(ids), words, strict=True)])
    assert exact > 0.9


def test_tuple_inputs_with_different_first_dimensions_are_refused() -> None:
    (src, tgt_in, lengths), y, vocab = reversal_task(10, seed=0)
    model = mt.Seq2Seq(len(vocab), len(vocab), 4, 4, seed=0)
    trainer = mt.Trainer(
        model, mt.CrossEntropyLoss(ignore_index=0), mt.optim.Adam(model.parameters())
    )
    with pytest.raises(ValueError, match="first dimension"):
        trainer.fit((src, tgt_in, lengths[:-1]), y, epochs=1, progress=False)


def test_save_and_load_round_trip_the_weights(tmp_path: Path) -> None:
    (src, tgt_in, lengths), _, vocab = reversal_task(5, seed=0)
    model = mt.Seq2Seq(len(vocab), len(vocab), 4, 6, cell="lstm", attention="additive", seed=0)
    mt.save(tmp_path / "s2s.npz", model)
    other = mt.Seq2Seq(len(vocab), len(vocab), 4, 6, cell="lstm", attention="additive", seed=1)
    mt.load(tmp_path / "s2s.npz", other)
    model.eval()
    other.eval()
    np.testing.assert_array_equal(
        model.forward(src, tgt_in, lengths), other.forward(src, tgt_in, lengths)
    )
