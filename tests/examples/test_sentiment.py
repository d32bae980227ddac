"""``minitorch-rnn sentiment``: a recurrent model and a bag of words on negation-aware sentences."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from minitorch_rnn.datasets.sentiment import negation_sentiment_dataset
from minitorch_rnn.serialization import read_meta

SMALL = ["--train-size", "400", "--test-size", "100", "--epochs", "2", "--no-progress"]
ROW = r"\s+(?P<overall>\d+\.\d\d)%\s+(?P<negated>\d+\.\d\d)%"


def table_row(output: str, model: str) -> tuple[float, float]:
    """Held-out accuracy overall and on negations, in percent, from the printed table."""
    match = re.search(rf"^{re.escape(model)}{ROW}$", output, flags=re.MULTILINE)
    assert match, output
    return float(match["overall"]), float(match["negated"])


def test_sentiment_prints_both_models_held_out_accuracy(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    history, checkpoint = tmp_path / "history.json", tmp_path / "sentiment.npz"
    result = cli("sentiment", *SMALL, "--history", str(history), "--save", str(checkpoint))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("400 training and 100 held-out sentences")
    assert "training the GRU model" in lines and "training the bag-of-words model" in lines
    header = next(line for line in lines if line.startswith("model"))
    assert "held-out accuracy" in header and "on negations" in header
    _, test, _ = negation_sentiment_dataset(400, 100, seed=0)
    negated = int(test.negated.sum())
    for model in ("GRU", "bag of words"):
        overall, on_negations = table_row(result.out, model)
        assert 0 <= overall <= 100 and 0 <= on_negations <= 100
        # whole sentences out of 100, and out of the negated ones
        assert overall == pytest.approx(round(overall))
        assert round(on_negations / 100 * negated) / negated * 100 == pytest.approx(
            on_negations, abs=0.006
        )
    columns = json.loads(history.read_text(encoding="utf-8"))
    for key in ("loss", "val_loss", "accuracy", "bow_loss", "bow_val_loss", "bow_accuracy"):
        assert len(columns[key]) == 2, key
    meta = read_meta(checkpoint)
    assert (meta["app"], meta["cell"], meta["hidden"]) == ("sentiment", "gru", 32)
    assert meta["vocabulary"][0] == "<pad>"


def test_sentiment_with_an_lstm_names_it_in_the_table(cli: Callable[..., Any]) -> None:
    result = cli(
        "sentiment",
        *SMALL,
        "--cell",
        "lstm",
        "--hidden",
        "8",
        "--embedding-dim",
        "4",
        "--epochs",
        "1",
    )
    assert result.code == 0, result.err
    table_row(result.out, "LSTM")
    table_row(result.out, "bag of words")


def test_held_out_set_without_negations_does_not_report_nan(cli: Callable[..., Any]) -> None:
    # seed 0 draws a single held-out sentence that is not negated
    _, test, _ = negation_sentiment_dataset(20, 1, seed=0)
    assert not test.negated.any()
    result = cli(
        "sentiment", "--train-size", "20", "--test-size", "1", "--epochs", "1", "--no-progress"
    )
    if result.code == 2:  # refusing so small a held-out set is as good as reporting it properly
        result.assert_one_line_error("--test-size")
    else:
        assert result.code == 0 and "nan" not in result.out and result.err == ""
