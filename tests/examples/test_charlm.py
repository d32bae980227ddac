"""``minitorch-rnn charlm``: a stateful character language model on a text file."""

from __future__ import annotations

import csv
import itertools
import math
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from minitorch_rnn.cli import build_parser
from minitorch_rnn.examples.charlm import DEFAULT_DROPOUT, DEFAULT_WEIGHT_DECAY, make_optimizer
from minitorch_rnn.module import Parameter
from minitorch_rnn.optim import Adam, AdamW
from minitorch_rnn.serialization import read_meta

TINY = [
    "--hidden",
    "8",
    "--embedding-dim",
    "4",
    "--epochs",
    "1",
    "--seq-len",
    "20",
    "--batch-size",
    "4",
    "--sample-length",
    "0",
    "--no-progress",
]


def test_charlm_trains_and_keeps_the_best_model(charlm_run: Any, text_file: Path) -> None:
    result = charlm_run.result
    assert result.code == 0, result.err
    text = text_file.read_text(encoding="utf-8")
    assert result.out.startswith(f"{len(text):,} characters, {len(set(text))} distinct; ")
    assert "1-layer LSTM with 16 units" in result.out
    assert result.out.count("--- sample after epoch ") == 2
    assert "best validation loss " in result.out
    assert f"best model kept at {charlm_run.checkpoint}" in result.out
    assert charlm_run.checkpoint.is_file()


def test_charlm_checkpoint_holds_the_model_config(charlm_run: Any, text_file: Path) -> None:
    meta = read_meta(charlm_run.checkpoint)
    text = text_file.read_text(encoding="utf-8")
    assert meta["app"] == "charlm"
    assert meta["vocabulary"][0] == "\n"
    assert set(meta["vocabulary"]) == set(text)
    embedding, stack, dropout, _ = meta["config"]["modules"]
    assert (stack["class"], stack["hidden_size"], stack["num_layers"]) == ("RecurrentStack", 16, 1)
    assert (dropout["class"], dropout["p"]) == ("Dropout", DEFAULT_DROPOUT)
    assert (stack["cell_class"], embedding["embedding_dim"]) == ("LSTMCell", 8)


def test_charlm_csv_history_has_one_row_per_epoch(charlm_run: Any) -> None:
    with charlm_run.history.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    for row in rows:
        loss, bits = float(row["val_loss"]), float(row["val_bits_per_char"])
        assert math.isfinite(loss)
        assert bits == pytest.approx(loss / math.log(2), rel=1e-6)
    assert float(rows[1]["loss"]) < float(rows[0]["loss"])


def test_charlm_with_two_gru_layers_and_dropout_runs(
    cli: Callable[..., Any], text_file: Path
) -> None:
    result = cli(
        "charlm",
        "--data",
        str(text_file),
        *TINY,
        "--cell",
        "gru",
        "--layers",
        "2",
        "--dropout",
        "0.2",
    )
    assert result.code == 0, result.err
    assert "2-layer GRU with 8 units" in result.out


def test_charlm_needs_a_data_file(cli: Callable[..., Any]) -> None:
    cli("charlm", *TINY).assert_one_line_error("--data")


def test_charlm_with_a_missing_data_file_is_a_one_line_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    result = cli("charlm", "--data", str(tmp_path / "missing.txt"), *TINY)
    result.assert_one_line_error("minitorch-rnn charlm: error", "missing.txt")
    assert result.out == ""


def test_charlm_with_under_a_hundred_characters_is_a_one_line_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    data = tmp_path / "short.txt"
    data.write_text("too short\n", encoding="utf-8")
    cli("charlm", "--data", str(data), *TINY).assert_one_line_error("at least 100")


def test_charlm_text_too_short_for_the_batches_is_a_one_line_error(
    cli: Callable[..., Any], text_file: Path
) -> None:
    result = cli("charlm", "--data", str(text_file), *TINY, "--max-chars", "150")
    result.assert_one_line_error("text too short", "--batch-size 4", "--seq-len 20")


@pytest.mark.parametrize(
    "option, value", [("--dropout", "1.0"), ("--dropout", "-0.1"), ("--val-share", "0.5")]
)
def test_charlm_out_of_range_fractions_are_one_line_errors(
    cli: Callable[..., Any], text_file: Path, option: str, value: str
) -> None:
    cli("charlm", "--data", str(text_file), *TINY, option, value).assert_one_line_error(option)


def test_charlm_with_one_character_says_character_not_characters(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    data = tmp_path / "one.txt"
    data.write_text("x", encoding="utf-8")
    cli("charlm", "--data", str(data), *TINY).assert_one_line_error("holds 1 character;")


def test_interrupted_charlm_keeps_the_best_epoch_so_far_and_says_where(
    cli: Callable[..., Any], text_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from minitorch_rnn.examples.charlm import PrintSample

    def on_epoch_begin(self: Any, index: int, logs: Any = None) -> None:
        if index == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(PrintSample, "on_epoch_begin", on_epoch_begin)
    checkpoint = tmp_path / "charlm.npz"
    arguments = ["--data", str(text_file), *TINY, "--epochs", "3", "--save", str(checkpoint)]
    result = cli("charlm", *arguments)
    assert result.code == 130
    (line,) = result.err.splitlines()
    assert line.startswith("minitorch-rnn charlm: interrupted; the best epoch so far (1, val_loss")
    assert line.endswith(f"is saved in {checkpoint}")
    assert read_meta(checkpoint)["app"] == "charlm"


def _assert_bits_are_the_nats_in_base_2(nats: str, bits: str) -> None:
    # both are printed to 4 decimals: the nats' rounding, scaled by 1 / ln 2, adds to the bits'
    rounding = 0.5e-4 / math.log(2) + 0.5e-4
    assert float(bits) == pytest.approx(float(nats) / math.log(2), abs=rounding * 1.01)


def _report(output: str) -> re.Match[str]:
    found = re.search(
        r"best validation loss ([\d.]+) nats/char \(([\d.]+) bits/char\) on the held-out 10% of "
        r"the text \(([\d,]+) characters\) at epoch (\d+) of (\d+), whose weights are kept",
        output,
    )
    assert found, output
    return found


def test_charlm_with_minutes_trains_past_the_default_epochs_until_the_budget_ends(
    cli: Callable[..., Any], text_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from minitorch_rnn.examples.charlm import DEFAULT_EPOCHS
    from minitorch_rnn.training import callbacks, time_schedule

    class EpochClock:
        """Each reading is 0.01 s later: the budget and the schedule read it twice a batch
        and an epoch has 6 batches, so the 6 s budget ends after about 46 epochs."""

        now = 0.0

        @classmethod
        def monotonic(cls) -> float:
            cls.now += 0.01
            return cls.now

    monkeypatch.setattr(callbacks, "time", EpochClock)
    monkeypatch.setattr(time_schedule, "time", EpochClock)

    history = tmp_path / "history.csv"
    arguments = [argument for argument in TINY if argument not in ("--epochs", "1")]
    result = cli(
        "charlm", "--data", str(text_file), *arguments, "--max-chars", "600", "--minutes",
        "0.1", "--history", str(history),
    )  # fmt: skip
    assert result.code == 0, result.err
    report = _report(result.out)
    nats, bits, held_out, best, epochs = report.groups()
    with history.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    losses = [float(row["val_loss"]) for row in rows]
    rates = [float(row["lr"]) for row in rows]
    assert int(epochs) == len(losses) > DEFAULT_EPOCHS  # 6 s of budget: no cap at 20
    # the default cosine follows the clock: from --lr down towards 0 as the budget ends
    assert rates[0] == pytest.approx(0.003, rel=1e-3)
    assert all(later < earlier for earlier, later in itertools.pairwise(rates))
    assert rates[-1] < 0.0001
    assert int(best) == losses.index(min(losses)) + 1
    assert float(nats) == pytest.approx(min(losses), abs=1e-4)
    _assert_bits_are_the_nats_in_base_2(nats, bits)
    assert int(held_out.replace(",", "")) == 600 - int(600 * 0.9)


def test_charlm_with_minutes_and_epochs_stops_at_the_epochs(
    cli: Callable[..., Any], text_file: Path
) -> None:
    result = cli("charlm", "--data", str(text_file), *TINY, "--epochs", "2", "--minutes", "5")
    assert result.code == 0, result.err
    assert _report(result.out).group(5) == "2"


def test_charlm_max_chars_reads_only_what_is_asked_of_a_big_file(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    import tracemalloc

    big = tmp_path / "big.txt"
    with big.open("w", encoding="utf-8") as handle:
        for _ in range(800):
            handle.write("the quick brown fox jumps over the lazy dog\n" * 1500)  # 64 MiB in all
    tracemalloc.start()
    try:
        result = cli("charlm", "--data", str(big), *TINY, "--max-chars", "2000")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.code == 0, result.err
    assert result.out.startswith("2,000 characters, ")
    assert peak < 16 * 2**20  # measured 0.4 MiB; reading the whole file would take 300 MB


def test_charlm_max_chars_reads_a_prefix_of_an_endless_stream(cli: Callable[..., Any]) -> None:
    result = cli("charlm", "--data", "/dev/zero", *TINY, "--max-chars", "2000")
    assert result.code == 0, result.err
    assert result.out.startswith("2,000 characters, ")


SHAKESPEARE = Path(__file__).resolve().parents[2] / "data" / "tinyshakespeare.txt"


def test_the_headline_command_with_a_few_seconds_runs_the_measured_defaults_and_reports(
    cli: Callable[..., Any],
) -> None:
    """``charlm --data data/tinyshakespeare.txt --minutes M`` itself, for 3 seconds: the defaults
    are the configuration the README's table chose, the budget cuts the first epoch short, and
    the report gives nats and bits on the held-out 10 % and what was trained on."""
    result = cli(
        "charlm", "--data", str(SHAKESPEARE), "--minutes", "0.05", "--sample-length", "0",
        "--no-progress",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        "1,115,394 characters, 65 distinct; 313 chunks of 32x100 per epoch; 1-layer GRU with "
        "512 units, dropout 0.3; AdamW, weight decay 0.1, lr 0.003, cosine to 0 over 0.05 minutes"
    )
    nats, bits, held_out, best, epochs = _report(result.out).groups()
    assert (held_out, best, epochs) == ("111,540", "1", "1")
    assert float(nats) < math.log(65)  # below a uniform guess over the 65 characters
    _assert_bits_are_the_nats_in_base_2(nats, bits)
    trained = re.search(r"([\d,]+) characters trained on \(([\d,]+) per second", result.out)
    assert trained, result.out
    characters = int(trained.group(1).replace(",", ""))
    # whole batches of 32 streams x 100 characters, fewer than one epoch's 313: the budget cut it
    assert characters % 3200 == 0 and 0 < characters < 313 * 3200


def _first_line_and_rates(
    cli: Callable[..., Any], text_file: Path, tmp_path: Path, *options: str
) -> tuple[str, list[float]]:
    """Train the tiny model with ``options`` (at lr 0.01): the run's first line and each epoch's
    logged learning rate."""
    history = tmp_path / "history.csv"
    arguments = [argument for argument in TINY if argument not in ("--epochs", "1")]
    result = cli(
        "charlm", "--data", str(text_file), *arguments, "--lr", "0.01", *options,
        "--history", str(history),
    )  # fmt: skip
    assert result.code == 0, result.err
    with history.open(encoding="utf-8", newline="") as handle:
        rates = [float(row["lr"]) for row in csv.DictReader(handle)]
    return result.out.splitlines()[0], rates


def test_charlm_without_minutes_anneals_the_cosine_over_its_epochs(
    cli: Callable[..., Any], text_file: Path, tmp_path: Path
) -> None:
    first, rates = _first_line_and_rates(
        cli, text_file, tmp_path, "--epochs", "3", "--min-lr", "0.001"
    )
    assert "lr 0.01, cosine to 0.001 over 3 epochs" in first
    expected = [0.001 + 0.009 * (1 + math.cos(math.pi * epoch / 3)) / 2 for epoch in range(3)]
    assert rates == pytest.approx(expected, rel=1e-9)


def test_charlm_constant_schedule_keeps_one_rate_and_zero_weight_decay_is_plain_adam(
    cli: Callable[..., Any], text_file: Path, tmp_path: Path
) -> None:
    first, rates = _first_line_and_rates(
        cli, text_file, tmp_path, "--epochs", "2", "--schedule", "constant", "--weight-decay", "0"
    )
    assert "; Adam, lr 0.01, constant over 2 epochs" in first
    assert rates == [0.01, 0.01]


@pytest.mark.parametrize(
    "options, kind, weight_decay",
    [([], AdamW, DEFAULT_WEIGHT_DECAY), (["--weight-decay", "0.25"], AdamW, 0.25),
     (["--weight-decay", "0"], Adam, 0.0)],
)  # fmt: skip
def test_charlm_optimizer_is_adamw_at_the_weight_decay_and_adam_without_it(
    options: list[str], kind: type, weight_decay: float
) -> None:
    args = build_parser().parse_args(["charlm", "--data", "text.txt", "--lr", "0.02", *options])
    parameters = [Parameter(np.zeros(3))]
    optimizer = make_optimizer(args, parameters)
    assert type(optimizer) is kind
    assert (optimizer.lr, optimizer.weight_decay) == (0.02, weight_decay)
    assert optimizer.params == parameters


@pytest.mark.parametrize(
    "arguments, fragment",
    [
        (["--min-lr", "0.1", "--lr", "0.01"], "--min-lr (0.1) must not exceed --lr (0.01)"),
        (["--weight-decay", "-1"], "--weight-decay"),
        (["--schedule", "linear"], "--schedule"),
    ],
)
def test_charlm_bad_schedule_options_are_one_line_errors(
    cli: Callable[..., Any], text_file: Path, arguments: list[str], fragment: str
) -> None:
    cli("charlm", "--data", str(text_file), *TINY, *arguments).assert_one_line_error(fragment)


def _tutorial_run_it_lines() -> list[str]:
    """The commands of the ``## Run it`` block of docs/tutorials/charlm.md."""
    page = (SHAKESPEARE.parents[1] / "docs" / "tutorials" / "charlm.md").read_text("utf-8")
    block = re.search(r"^## Run it\n\n```bash\n(.*?)^```", page, re.M | re.S)
    assert block is not None, "docs/tutorials/charlm.md has no Run it block"
    return block.group(1).splitlines()


def test_the_tutorial_run_it_lines_without_a_clock_run_as_written(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every ``Run it`` line but the 15- and 30-minute trainings (whose 3-second form is the
    headline test) runs as written, where ``data/`` is the shipped data and ``shakespeare.npz`` a
    charlm checkpoint (made small here)."""
    (tmp_path / "data").symlink_to(SHAKESPEARE.parent, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    small = cli(
        "charlm", "--data", str(SHAKESPEARE), "--max-chars", "20000", *TINY, "--save",
        "shakespeare.npz",
    )  # fmt: skip
    assert small.code == 0, small.err
    lines = [line for line in _tutorial_run_it_lines() if "--minutes" not in line]
    assert [shlex.split(line)[1] for line in lines] == ["charlm", "sample"]
    trained, sampled = (cli(*shlex.split(line)[1:]) for line in lines)
    assert trained.code == 0, trained.err
    assert "at epoch 5 of 5" in trained.out and "(20,000 characters)" in trained.out
    assert sampled.code == 0, sampled.err
    samples = sampled.out.rstrip("\n").split("\n" + "-" * 40 + "\n")
    assert len(samples) == 10  # sample's default --n
    assert all(text.startswith("ROMEO:") and len(text) == 6 + 500 for text in samples), samples
