"""The progress display of Trainer.fit: a tqdm bar on a terminal, a line per epoch otherwise."""

from __future__ import annotations

import io

import numpy as np
import pytest

from minitorch_rnn.layers import Dense
from minitorch_rnn.losses import CrossEntropyLoss
from minitorch_rnn.optim import SGD
from minitorch_rnn.training import Trainer


def _blobs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype(np.float32)
    return x, np.argmax(x[:, :3], axis=1)


def _trainer() -> Trainer:
    model = Dense(4, 3, seed=0)
    return Trainer(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.05))


def test_progress_outside_a_terminal_prints_one_plain_line_per_epoch(
    capsys: pytest.CaptureFixture[str],
) -> None:
    x, y = _blobs()
    _trainer().fit(x, y, epochs=3, batch_size=8, validation_data=(x, y))
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 3
    assert "\r" not in captured.err
    for epoch, line in enumerate(lines, start=1):
        assert line.startswith(f"Epoch {epoch}/3 - loss: ")
        assert "accuracy: " in line and "val_loss: " in line and "lr: 0.05" in line


def test_progress_false_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    x, y = _blobs()
    _trainer().fit(x, y, epochs=2, progress=False)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_in_a_terminal_draws_a_tqdm_bar_with_loss_and_metrics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    x, y = _blobs()
    _trainer().fit(x, y, epochs=2, batch_size=20)
    text = terminal.getvalue()
    assert "\r" in text
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "3/3" in text
    assert "loss=" in text and "accuracy=" in text
    assert " - loss: " not in text  # no plain summary line on a terminal
